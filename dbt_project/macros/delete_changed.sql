{#- Pre-hook of every stored table that applies the this-run layer: refuse a layer another
    dbt invocation built (`dbt build -s fct_watch_cycles` alone would apply a stale one). -#}
{% macro assert_this_run() -%}
    {#- Outside the condition, so that dbt sees the dependency when it parses. -#}
    {%- set run = ref('int_run') -%}
    {%- if is_incremental() -%}
        select case
            when max(invocation_id) is distinct from '{{ invocation_id }}' then error(
                'the this-run layer (schema this_run) was built by another dbt invocation: build '
                || '{{ this.identifier }} with its ancestors (-s +{{ this.identifier }}) or through rewatch'
            )
        end
        from {{ run }}
    {%- else -%}
        select 1
    {%- endif -%}
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
