"""Open data and interoperability: IATI 2.03 and 360Giving in and out, table exports and imports, and the public
open-data page. See DESIGN.md and the README's "Open data" section."""
