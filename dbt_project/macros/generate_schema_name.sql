{#- Schemas by layer as named (staging, intermediate, main), not prefixed by the target's:
    analysts find the published tables in the file's default schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
