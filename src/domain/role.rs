//! Roles of API tokens.

text_enum! {
    /// What a token may do.
    pub enum Role as "role" {
        /// Everything, including committees, indicators, locks and tokens.
        Admin = "admin",
        /// Writes figures, targets and imports for its committees and their sub-committees.
        Editor = "editor",
        /// Reads.
        Viewer = "viewer",
    }
}
