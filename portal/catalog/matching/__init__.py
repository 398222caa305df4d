"""The catalog matcher: features over a pair of product records, a calibrated classifier, and the
thresholds that decide auto-map / review / new master (docs/catalog-matching.md).

The scoring modules (`columns`, `normalize`, `features`, `metrics`, `model`, `evaluate`, `cli`)
need no database: `flask catalog train|evaluate` run them on benchmark files. The pipeline
modules (`blocking`, `pipeline`, `reasons`, `loading`) run them over the portal's catalog, for the
RQ job in `catalog.match_jobs`.
"""
