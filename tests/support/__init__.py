"""Test support shared by every test folder: ``http`` (the one local HTTP server), ``tls``,
``moto_s3`` (moto's S3 as a server), ``slack`` (a message's texts), ``stores`` (a
request-counting store) and ``totals`` (a lake's per-day cost beside the fixture rows')."""
