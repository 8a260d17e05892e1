{#- The raw-zone partitions of this run's nights only (never the whole history). -#}
{% macro raw_night_partitions(table) -%}
    {%- set nights = var('rewatch__nights') -%}
    {%- if nights | length == 0 -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error("rewatch__nights is empty: run dbt through `rewatch` (or pass --vars '{rewatch__nights: [YYYY-MM-DD]}')") }}
        {%- endif -%}
        (select null)
    {%- else -%}
        read_parquet([
            {%- for night in nights %}
            '{{ env_var("REWATCH_RAW_DIR") }}/{{ table }}/export_date={{ night }}/data.parquet'{{ "," if not loop.last }}
            {%- endfor %}
        ], hive_partitioning = false, union_by_name = true)
    {%- endif -%}
{%- endmacro %}

{#- This run's nights as a SQL list of dates. -#}
{% macro run_nights() -%}
    {%- for night in var('rewatch__nights') -%}
        date '{{ night }}'{{ ", " if not loop.last }}
    {%- else -%}
        null
    {%- endfor -%}
{%- endmacro %}
