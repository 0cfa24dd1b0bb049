"""Funnel's shared domain: everything the deployables (api, pipeline, receiver, operator) share."""
