DROP TABLE period_locks;
