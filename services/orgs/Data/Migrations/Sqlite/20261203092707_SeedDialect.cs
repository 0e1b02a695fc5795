using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Orgs.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SeedDialect : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "default_of_organization_id",
                table: "boards",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_boards_default_of_organization_id",
                table: "boards",
                column: "default_of_organization_id",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_boards_default_of_organization_id",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "default_of_organization_id",
                table: "boards");
        }
    }
}
