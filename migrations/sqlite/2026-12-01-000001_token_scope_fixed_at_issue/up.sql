-- A token's scope is fixed when it is issued: the committees named and every
-- committee below them. Tokens issued before kept only the named committees and
-- widened as the tree changed; give them their subtrees as they stand now.
WITH RECURSIVE scope(token_id, committee_id) AS (
    SELECT token_id, committee_id FROM api_token_committees
    UNION
    SELECT scope.token_id, c.id FROM committees AS c JOIN scope ON c.parent_id = scope.committee_id
)
INSERT INTO api_token_committees (token_id, committee_id)
SELECT token_id, committee_id FROM scope AS s
WHERE NOT EXISTS (
    SELECT 1 FROM api_token_committees AS t
    WHERE t.token_id = s.token_id AND t.committee_id = s.committee_id
);
