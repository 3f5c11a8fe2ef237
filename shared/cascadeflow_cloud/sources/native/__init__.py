"""Native cost exports in: the clouds' own billing files (AWS Data Exports CUR 2.0 and FOCUS
1.2, Azure Cost Management exports, GCP's BigQuery billing export and FOCUS view).

A *format* (``formats.NativeFormat``) maps the columns of one export kind, already read into
Arrow, onto the lake's cost schema; the registry ``formats.FORMATS`` names them all and
``formats.detect`` picks one from a file's header. Reading files and deliveries (manifests,
completeness, restatement) sits beside the formats, which do no I/O.
"""
