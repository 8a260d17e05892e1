{#- Whether a profile's view or completion counts for the kids audience: its profile's
    `is_kids_profile`; a profile the exports never listed counts as not kids (docs/metrics.md,
    "Audiences"). The one place the rule lives: sessions, daily figures and windows use it. -#}
{% macro is_kids(is_kids_profile) -%}
    coalesce({{ is_kids_profile }}, false)
{%- endmacro %}
