"""The only place SDKs and frameworks are imported. Sibling adapters do not import each other."""
