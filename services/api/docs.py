"""The interactive API docs at /docs, served from our own origin (Swagger UI from the
`swagger-ui-bundle-v2` package), so the Content-Security-Policy can forbid everything external and
every inline script."""

from fastapi import FastAPI, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

ASSETS = "/docs-assets"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>groeiruimte API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" href="{ASSETS}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
INIT = 'window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});\n'


def install_docs(app: FastAPI) -> None:
    """/docs (the page), /docs/init.js (its only script of our own) and the Swagger UI assets."""

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.get("/docs/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(INIT, media_type="text/javascript")

    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
