-- The expanded scopes cannot be told apart from named ones; nothing to undo.
SELECT 1;
