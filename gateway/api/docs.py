"""What several operations' declarations share in the OpenAPI document: error descriptions, headers, parameters,
examples of bodies (gateway/api/operation.py declares the operations, gateway/openapi.py writes the document)."""

from __future__ import annotations

from typing import Any

ERRORS = {
    400: "Тело запроса не является объектом JSON или параметр неверен; токен в адресе запроса (invalid_request)",
    401: "Нет токена или токен недействителен (WWW-Authenticate: Bearer)",
    403: "У токена нет нужной области доступа (insufficient_scope)",
    404: "Не найдено или не принадлежит вызывающему",
    409: "Конфликт с состоянием ресурса",
    415: "Тело запроса не в формате application/json",
    422: "Данные не прошли проверку: причины в errors",
    429: "Слишком много запросов: исчерпан предел гражданина, сервисного клиента или адреса (см. описание API); "
    "повторите после Retry-After",
    503: "Внешняя система недоступна; повторите после Retry-After",
}
NOT_MODIFIED = "Не изменилось с прошлого чтения: ETag совпал с If-None-Match; тела нет"

ETAG = {
    "description": "Сильный тег тела ответа; пришлите его в If-None-Match, чтобы получить 304 без тела, "
    "пока ничего не изменилось",
    "schema": {"type": "string"},
    "example": '"df8c55c8c34c13bb8a91e27cc413cae04df9a695"',
    "required": True,
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETag из прошлого ответа: если тело с тех пор не изменилось, ответ — 304 без тела.",
    "schema": {"type": "string"},
    "example": '"df8c55c8c34c13bb8a91e27cc413cae04df9a695"',
}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Повтор с тем же ключом и тем же телом вернёт исходное заявление.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "example": "3f6c1d2e-8b4a-4e51-9c07-5d2a9e1b7f40",
}
APPLICATION_ID = {
    "name": "application_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "example": "app_01KAVZ3Q8M5T2R7W9X4C6B1N0D",
}
ENP = {"name": "enp", "in": "path", "required": True, "schema": {"type": "string"}, "example": "7754900882000015"}
REGION_CODE = {
    "name": "region_code",
    "in": "query",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]{2}$"},
    "example": "77",
}
LOCATION = {
    "Location": {"schema": {"type": "string"}, "description": "Адрес заявления"},
    "Idempotent-Replayed": {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "Есть, когда ответ повторяет ответ на первый запрос с тем же Idempotency-Key",
    },
}

# Examples shown by /docs and tried first by schemathesis: every one is a body the gateway accepts today
# (tests/api/test_docs_ui.py checks them against their schemas and the domain rules).
PASSPORT_EXAMPLE = {
    "type": "passport_rf",
    "series": "4510",
    "number": "123456",
    "issue_date": "2010-06-01",
    "issuer": "ОВД района Арбат г. Москвы",
}
APPLICATION_EXAMPLES: dict[str, Any] = {
    "self": {
        "summary": "Заявление на себя: гражданка РФ с паспортом",
        "value": {
            "relation": "self",
            "person": {
                "last_name": "Иванова",
                "first_name": "Анна",
                "middle_name": "Сергеевна",
                "birth_date": "1990-05-17",
                "sex": "female",
                "birth_place": "г. Москва",
                "citizenship": "RUS",
                "snils": "112-233-445 95",
                "inn": "500100732259",
                "identity_document": PASSPORT_EXAMPLE,
                "residence_document": None,
            },
            "region_code": "77",
            "insurer_code": "77001",
            "policy_form": "electronic",
            "contacts": {"phone": "+79161234567", "email": "anna@example.ru"},
        },
    },
    "child": {
        "summary": "Заявление родителя на ребёнка до 14 лет по свидетельству о рождении",
        "value": {
            "relation": "child",
            "person": {
                "last_name": "Иванов",
                "first_name": "Лев",
                "birth_date": "2020-03-04",
                "sex": "male",
                "citizenship": "RUS",
                "snils": "167-283-594 05",
                "identity_document": {
                    "type": "birth_certificate_rf",
                    "series": "IV-МЮ",
                    "number": "654321",
                    "issue_date": "2020-03-10",
                    "issuer": "Отдел ЗАГС Пресненского района",
                },
            },
            "representative": {
                "last_name": "Иванова",
                "first_name": "Анна",
                "birth_date": "1990-05-17",
                "snils": "112-233-445 95",
                "identity_document": PASSPORT_EXAMPLE,
                "authority": {"type": "parent"},
            },
            "region_code": "77",
            "insurer_code": "77001",
            "policy_form": "electronic",
        },
    },
    "foreigner": {
        "summary": "Иностранный гражданин с видом на жительство",
        "value": {
            "relation": "self",
            "person": {
                "last_name": "Каримов",
                "first_name": "Рустам",
                "birth_date": "1988-02-11",
                "sex": "male",
                "citizenship": "UZB",
                "identity_document": {"type": "foreign_passport", "number": "FA1234567", "issue_date": "2019-09-02"},
                "residence_document": {
                    "type": "residence_permit",
                    "series": "82",
                    "number": "0123456",
                    "issue_date": "2025-08-12",
                    "expiry_date": "2030-08-11",
                },
            },
            "region_code": "77",
            "insurer_code": "77002",
            "policy_form": "paper",
        },
    },
}
REPLACEMENT_EXAMPLES: dict[str, Any] = {
    "name_change": {
        "summary": "Смена фамилии",
        "value": {"reason": "personal_data_change", "person": {"last_name": "Петрова"}, "policy_form": "electronic"},
    },
    "relocation": {
        "summary": "Переезд в другой регион",
        "value": {"reason": "relocation", "region_code": "50", "insurer_code": "50001", "policy_form": "electronic"},
    },
    "insurer_change": {
        "summary": "Смена страховой организации по желанию (раз в год, до 1 ноября)",
        "value": {"reason": "insurer_change", "insurer_code": "77002", "policy_form": "electronic"},
    },
    "lost": {"summary": "Полис утрачен", "value": {"reason": "lost", "policy_form": "plastic"}},
}
