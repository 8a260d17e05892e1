{#- The warehouse's state *before* this run, read by the change-capture models, which dbt runs
    first: a relation of the same database by schema and name, or none on a first build. -#}
{% macro previous_relation(schema, identifier) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema=schema, identifier=identifier)) }}
{%- endmacro %}

{#- Pre-hook: delete the rows of the keys this run recomputes (whole keys). -#}
{% macro delete_changed(key_columns, changes_relation) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where ({{ key_columns | join(', ') }}) in (
            select {{ key_columns | join(', ') }} from {{ changes_relation }}
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook: delete the rows of each changed key from its recompute point on. -#}
{% macro delete_changed_since(key_columns, time_column, changes_relation, from_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        using {{ changes_relation }} as changes
        where
            {% for column in key_columns -%}
            {{ this }}.{{ column }} = changes.{{ column }} and
            {% endfor -%}
            {{ this }}.{{ time_column }} >= changes.{{ from_column }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
