"""The ministry rulebook: executable checks run at submission, at approval and nightly.

- checks.py    the checks themselves: code, default severity, thresholds, stages, bilingual messages
- engine.py    evaluate(project, stage=...) -> [CheckResult], pure (reads only)
- services.py  rulebook_run (evaluates, stores, audits) and rule_setting_update (the ministry's settings)
- selectors.py every read: effective settings, runs visible to a user, a project's latest run
- models.py    RuleSetting, RulebookRun, CheckResultRecord

The later issues (partners, finance, coordination, reports, documents) provide the interfaces named in
checks.INTERFACES; until they do, the checks that need them answer an honest "not available yet" warning.
"""
