{#- This run's nights as a SQL list of dates. dbt must be given them: rewatch sets REWATCH_NIGHTS
    (space-separated YYYY-MM-DD) in dbt's environment, like the other REWATCH_* inputs. Read only
    when the model runs (`execute`), never while dbt parses: a value read at parse time is saved
    with the parse, and a new one makes dbt parse the calling model again, every night. (The
    YAML reads the same nights as the DuckDB variable `rewatch_nights`: src/rewatch/dbt_plugin.py.)
    Literal dates, not that variable, here: DuckDB prunes the published lake's files by them. -#}
{% macro run_nights() -%}
    {%- set nights = env_var('REWATCH_NIGHTS', '').split() if execute else [] -%}
    {%- if execute and nights | length == 0 -%}
        {{ exceptions.raise_compiler_error("REWATCH_NIGHTS is empty: run dbt through `rewatch` (or set REWATCH_NIGHTS=YYYY-MM-DD, space-separated for several nights)") }}
    {%- endif -%}
    {%- if not execute -%}
        cast(null as date) {#- while dbt (or sqlfluff) only parses: a list that parses -#}
    {%- endif -%}
    {%- for night in nights -%}
        date '{{ night }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
