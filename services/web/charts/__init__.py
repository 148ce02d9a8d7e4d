"""Server-side SVG charts for the dashboard and the reports."""
