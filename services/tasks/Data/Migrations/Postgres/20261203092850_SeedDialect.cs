using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Tasks.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class SeedDialect : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "result",
                table: "tasks",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "result",
                table: "tasks");
        }
    }
}
