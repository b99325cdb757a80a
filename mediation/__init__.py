"""Dispute-mediation workflow engine (矛盾纠纷调处工作流引擎).

The domain and the engine; knows nothing of Flask. See DESIGN.md §2.
"""
