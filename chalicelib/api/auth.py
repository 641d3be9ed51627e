"""The admin authorizer (a Chalice built-in authorizer: the same code runs in API Gateway and locally) and
the per-route scope check."""

from __future__ import annotations

from chalice import AuthResponse, Blueprint

from chalicelib.domain.errors import Forbidden

bp = Blueprint(__name__)

# read: GET admin routes; write: also changes; admin: also token management.
SCOPE_ORDER = {"read": 1, "write": 2, "admin": 3}


@bp.authorizer(ttl_seconds=0)
def admin_auth(auth_request):
    # Cached results would let a revoked token live on: ttl 0 keeps revocation immediate.
    from chalicelib.store import admin_tokens
    from chalicelib.store.models import bind

    bind()  # middleware does not run for a built-in authorizer
    header = auth_request.token or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return AuthResponse(routes=[], principal_id="anonymous")
    record = admin_tokens.resolve(token.strip())
    if record is None:
        return AuthResponse(routes=[], principal_id="anonymous")
    return AuthResponse(
        routes=["*"],
        principal_id=record.token_id,
        context={"scopes": " ".join(record.scopes), "token_id": record.token_id},
    )


def require_scope(request, scope: str) -> str:
    """Refuse (403) a token whose scopes do not reach `scope`; return the token id."""
    ctx = (request.context or {}).get("authorizer") or {}
    held = max((SCOPE_ORDER.get(s, 0) for s in str(ctx.get("scopes", "")).split()), default=0)
    if held < SCOPE_ORDER[scope]:
        raise Forbidden(f"This token lacks the '{scope}' scope.", code="insufficient_scope")
    return str(ctx.get("token_id") or ctx.get("principalId") or "")
