"""/api/v1/versions: the deployed process versions and the sha256 of each of their files."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from ...usecases.deploy import process_versions
from ..context import services
from .auth import authenticate
from .schemas import VersionListSchema

blp = Blueprint("api_versions", __name__, url_prefix="/api/v1/versions", description="Process versions")
blp.before_request(authenticate)


@blp.route("")
@blp.response(200, VersionListSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def list_versions() -> Any:
    """Process versions

    Every deployment, newest first: who deployed it and when, and its diagrams and forms with sha256.
    """
    return {"items": [{"id": v.deployment.id, "created_at": v.deployment.created_at,
                       "deployed_by": v.deployment.deployed_by, "active": v.active,
                       "files": [{"name": name, "sha256": v.deployment.hashes[name], "size": len(content)}
                                 for name, content in sorted(v.deployment.files.items())]}
                      for v in process_versions(services())]}
