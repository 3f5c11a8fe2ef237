"""The demo's stages, one module each, run in name order by ``cascadeflow_cloud.demo``.

A module ``sNN_<name>.py`` defines ``run(ctx: DemoContext) -> None``; adding a stage never edits
the demo driver. Stages print what they did to ``ctx.out`` and leave files under ``ctx.workdir``.
"""
