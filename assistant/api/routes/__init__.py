"""One APIRouter per resource; create_app includes them in ROUTERS' order."""

from __future__ import annotations

from assistant.api.routes.admin import router as admin
from assistant.api.routes.ask import router as ask
from assistant.api.routes.documents import router as documents
from assistant.api.routes.feedback import router as feedback
from assistant.api.routes.health import router as health
from assistant.api.routes.reviews import router as reviews

ROUTERS = (health, ask, documents, feedback, admin, reviews)
