-- Open311 lists requests by when they were filed, newest first, within a date range (open311/store.py): without
-- this index every such query, public and keyless, sorted the whole `complaints` table, which keeps every request
-- ever filed (millions after a year). Backward on (opened_at, request_id) it yields the order Open311 answers in.
CREATE INDEX complaints_opened_idx ON complaints (opened_at, request_id);
