{#- The model's primary key: no key column is null, and no two rows share the key. One test
    where unique and not_null on each key column were 1 + n (each a dbt node, run every night). -#}
{% test primary_key(model, columns) %}

with

keys as (

    select
        {{ columns | join(', ') }},
        count(*) as rows_with_key

    from {{ model }}

    group by {{ columns | join(', ') }}

)

select * from keys
where
    rows_with_key > 1
    {%- for column in columns %}
    or {{ column }} is null
    {%- endfor %}

{% endtest %}
