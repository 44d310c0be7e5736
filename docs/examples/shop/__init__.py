"""The shop of the tutorial "Adopting a strict CSP in an existing app".

``app`` is the app as it was; each other module is one step of the
tutorial: ``stamped``, ``fixed``, ``trial`` (report-only) and ``enforced``.
"""
