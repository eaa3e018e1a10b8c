"""Grafana dashboards from the catalog, built with grafanalib: one builder module per dashboard kind.

`home`, `team`, `service`, `slo` and `exporter` build one kind each, `components/` one module per source
kind; `panels` and `promql` are the shared helpers, `render` turns a `Board` into Grafana's JSON,
`generate` collects every dashboard of a catalog, and `provisioning` is the edge step that writes files.
"""
