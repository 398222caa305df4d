"""The catalog matcher's scoring model: features over a pair of product records, a calibrated
classifier, and the thresholds that decide auto-map / review / new master
(docs/catalog-matching.md).

No database here: the benchmark commands (`flask catalog train|evaluate`) and, later, the RQ
matching job call the same code.
"""
