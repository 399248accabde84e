"""The embedded admin: pages a merchant's staff open inside their store's admin.

Every request is authenticated (auth.py) and scoped to the merchant owning the store that
proved it (scope.py); guard.py refuses the rest and sets the framing and script policy.
"""

from patronkit.webapp.admin import api, customers, dashboard, settings, wordings
from patronkit.webapp.admin.blueprint import bp
from patronkit.webapp.admin.guard import after, before, not_found, template_context

bp.before_request(before)
bp.after_request(after)
bp.context_processor(template_context)
bp.register_error_handler(404, not_found)

__all__ = ["api", "bp", "customers", "dashboard", "settings", "wordings"]
