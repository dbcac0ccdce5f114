"""Oversight of running projects (issue 3, parts 5 and 6).

- rules.py      the alert rules: each a function over a project answering None or (message_ar, message_en, facts)
- models.py     Alert (one open alert per project and rule)
- services.py   alerts_raise (idempotent, resolves what cleared) and alert_acknowledge, all audited
- selectors.py  alerts visible to a user, the home page's cards, and compliance_of(charity)
- permissions.py, forms.py, views.py, urls.py, api.py, tasks.py
"""
