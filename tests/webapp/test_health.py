from __future__ import annotations

from patronkit.config import Settings
from patronkit.webapp import create_app


def test_health_reports_database_ok(settings: Settings, engine: object) -> None:
    client = create_app(settings).test_client()
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "version": "0.1.0"}


def test_health_reports_unreachable_database(settings: Settings, tmp_path: object) -> None:
    broken = Settings.load(
        {
            "PATRONKIT_DATA_DIR": str(settings.data_dir),
            "PATRONKIT_DATABASE_URL": "sqlite:////nonexistent-dir/for/sure/db.sqlite",
        }
    )
    response = create_app(broken).test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
