"""The security headers of every admin response.

The pages are framed by the platform's admin and by nothing else (`frame-ancestors` from the
gateway: for a Shopify store, that store's domain and admin.shopify.com); they run only our
own scripts and styles, plus the platform's bridge script, which only its CDN serves.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from patronkit.core.storefront import AdminEmbedding


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(embedding: AdminEmbedding) -> str:
    scripts = sorted({_origin(url) for url in embedding.script_urls})
    ancestors = list(embedding.frame_ancestors)
    directives = [
        "default-src 'self'",
        " ".join(["script-src 'self'", *scripts]),
        "style-src 'self'",
        "img-src 'self' data:",
        # The bridge script talks to its own origin and to the admin around the page.
        " ".join(["connect-src 'self'", *scripts, *ancestors]),
        "frame-ancestors " + (" ".join(ancestors) or "'none'"),
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ]
    return "; ".join(directives)


def merged(embeddings: list[AdminEmbedding]) -> AdminEmbedding:
    """One embedding for a response whose store is unknown (a refused request): whatever any
    platform would allow, so its admin can show the refusal and its bridge can retry."""
    return AdminEmbedding(
        frame_ancestors=tuple(dict.fromkeys(a for e in embeddings for a in e.frame_ancestors)),
        script_urls=tuple(dict.fromkeys(s for e in embeddings for s in e.script_urls)),
        meta={k: v for e in embeddings for k, v in e.meta.items()},
    )
