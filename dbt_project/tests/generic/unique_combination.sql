{#- No two rows share these columns' values (the model's compound primary key). -#}
{% test unique_combination(model, columns) %}

    select
        {{ columns | join(', ') }},
        count(*) as rows_with_key

    from {{ model }}

    group by {{ columns | join(', ') }}
    having count(*) > 1

{% endtest %}
