-- Due postings are found through postings_tenant_due alone. With postings_due beside it
-- the planner, its statistics taken while little was pending, read a batch's postings
-- (and each one's earlier revisions) through every organisation's due rows: a backlog of
-- thousands made each claim scan all of them.
DROP INDEX IF EXISTS postings_due;
