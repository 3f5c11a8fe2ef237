"""CascadeFlow Cloud: cost intelligence for LLM spend on Bedrock, Azure OpenAI and Vertex AI.

The top-level package is deliberately light: importing it pulls in no cloud SDK, pandas,
pyarrow or statsmodels, so serverless handlers start fast. Import what you need from the
submodules, e.g.::

    from cascadeflow_cloud.schema import UsageEvent
    event = UsageEvent(provider="aws_bedrock", model="anthropic.claude-3-5-sonnet", input_tokens=10)
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
