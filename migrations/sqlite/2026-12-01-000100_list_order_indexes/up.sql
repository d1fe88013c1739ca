-- Lists page by key in id order (no OFFSET). A committee's figures are the
-- usual filter: this index gives them in id order, so a page reads only its
-- own rows wherever it starts.
CREATE INDEX observations_committee_id_order ON observations (committee_id, id);
