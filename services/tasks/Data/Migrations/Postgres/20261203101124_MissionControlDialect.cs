using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Tasks.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class MissionControlDialect : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "kind",
                table: "tasks",
                type: "character varying(16)",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "requires_approval",
                table: "tasks",
                type: "boolean",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "target_agent_id",
                table: "tasks",
                type: "uuid",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "kind",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "requires_approval",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "target_agent_id",
                table: "tasks");
        }
    }
}
