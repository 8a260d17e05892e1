{#- The (title, local date) pairs fct_title_daily recomputes: the previous ones of this run's
    changed pairs, and their sessions' and completions' dates now. -#}
{% macro changed_title_dates(previous_title_dates, changes, sessions, cycles) -%}
    select title_id, local_date from {{ previous_title_dates }}
    union
    select {{ sessions }}.title_id, {{ sessions }}.local_date
    from {{ sessions }}
    where ({{ sessions }}.profile_id, {{ sessions }}.title_id) in (
        select {{ changes }}.profile_id, {{ changes }}.title_id from {{ changes }}
    )
    union
    select {{ cycles }}.title_id, {{ cycles }}.completed_local_date
    from {{ cycles }}
    where
        {{ cycles }}.is_completed
        and ({{ cycles }}.profile_id, {{ cycles }}.title_id) in (
            select {{ changes }}.profile_id, {{ changes }}.title_id from {{ changes }}
        )
{%- endmacro %}

{% macro delete_title_dates(previous_title_dates, changes, sessions, cycles) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where (title_id, local_date) in ({{ changed_title_dates(previous_title_dates, changes, sessions, cycles) }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
