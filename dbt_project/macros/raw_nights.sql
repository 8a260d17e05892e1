{#- This run's nights as a SQL list of dates. dbt must be given them: rewatch sets REWATCH_NIGHTS
    (space-separated YYYY-MM-DD) in dbt's environment, like the other REWATCH_* inputs. An
    environment variable, not a --vars value: a changed var makes dbt parse the whole project again,
    a changed environment variable only the files that read it (partial parsing). -#}
{% macro run_nights() -%}
    {%- set nights = env_var('REWATCH_NIGHTS', '').split() -%}
    {%- if execute and nights | length == 0 -%}
        {{ exceptions.raise_compiler_error("REWATCH_NIGHTS is empty: run dbt through `rewatch` (or set REWATCH_NIGHTS=YYYY-MM-DD, space-separated for several nights)") }}
    {%- endif -%}
    {%- for night in nights -%}
        date '{{ night }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
