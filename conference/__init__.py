"""Casebridge's domain rules: pure Python, no I/O (no web, database, media or asyncio).

Modules are named after their concept: ``people``, ``conferences``, ``cases``,
``imaging``, ``agenda``, ``decision``, ``quorum``, ``referrals``, ``audit``; every
refusal is an error from ``errors``.
"""
