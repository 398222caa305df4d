"""The customer storefront: browsing and searching the unified catalog (docs/storefront.md)."""
