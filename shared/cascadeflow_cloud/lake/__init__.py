"""Where the data lives: object stores and the partitioned Parquet layout.

The light parts (``store``, ``layout``, ``eventlog``) import no pyarrow; ``tables.Lake`` does.

>>> from cascadeflow_cloud.lake import open_store
>>> open_store("s3://bucket/prefix", s3_client=object()).url
's3://bucket/prefix/'
"""

from cascadeflow_cloud.lake.store import LocalStore, ObjectStore, S3Store, StoredObject, open_store

__all__ = ["LocalStore", "ObjectStore", "S3Store", "StoredObject", "open_store"]
