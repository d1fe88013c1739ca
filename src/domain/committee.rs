//! Committees: the organisations that report.

text_enum! {
    /// What kind of organisation a committee is.
    pub enum CommitteeKind as "committee kind" {
        /// Đảng ủy Khối Doanh nghiệp: the business-bloc party committee of a province or city.
        BusinessBloc = "business_bloc",
        /// Đảng ủy Khu kinh tế: the party committee of an economic zone.
        EconomicZone = "economic_zone",
        /// Any other reporting organisation.
        Other = "other",
    }
}
