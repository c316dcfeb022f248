# Oversight owns no tables: it reads the other apps' records and the audit log.
