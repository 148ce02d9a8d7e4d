"""Reports and the breakdowns behind the dashboard: half-year, annual and final reports as HTML and XLSX."""
