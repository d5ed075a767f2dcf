"""The machinery behind the public modules: it may change in any release; import the
public modules instead."""
