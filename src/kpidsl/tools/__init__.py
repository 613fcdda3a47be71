"""The tools built on the library: the tests written beside the rules (``testing``) and the
evidence bundles that tie reported figures to what produced them (``evidence``)."""
