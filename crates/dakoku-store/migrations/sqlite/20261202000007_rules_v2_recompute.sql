-- Derived figures are recomputed under the rules engine of this release: month summaries now keep
-- the unrounded figures the statutory alerts compare, and day records pair shifts across the
-- day boundary. Both caches are disposable; the ledger is untouched.
DELETE FROM month_totals;
DELETE FROM day_records;
