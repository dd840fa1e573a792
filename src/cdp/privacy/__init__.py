"""Privacy: erasure requests (``cdp erase``), their tombstones, and the loader's screening of
re-delivered data. Modules: normalize (staging's email/phone rules in Python), tombstones
(hashes of what identifies an erased person), subject (who a request is about), erase (the
request end to end)."""
