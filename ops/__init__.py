"""Operations: readiness (`/readyz`) and how each process shows its Prometheus metrics (docs/OPERATIONS.md)."""
