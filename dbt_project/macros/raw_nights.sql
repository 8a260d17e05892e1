{#- This run's nights as a SQL list of dates; dbt must be given them (rewatch does). -#}
{% macro run_nights() -%}
    {%- set nights = var('rewatch__nights') -%}
    {%- if execute and nights | length == 0 -%}
        {{ exceptions.raise_compiler_error("rewatch__nights is empty: run dbt through `rewatch` (or pass --vars '{rewatch__nights: [YYYY-MM-DD]}')") }}
    {%- endif -%}
    {%- for night in nights -%}
        date '{{ night }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
